"""The web app and REST API: ``create_app()`` in :mod:`tunelens.web.app`, ``tunelens serve``."""
