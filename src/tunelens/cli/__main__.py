from tunelens.cli.app import main

main()
