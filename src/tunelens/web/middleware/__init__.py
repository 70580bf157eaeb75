"""The app's outer shell: ASGI middleware and the log setup that goes with it.

Request ids and trusted proxies, the access log, metrics, security headers and CORS, rate
limits, body limits and the back-pressure queue. :func:`tunelens.web.app.create_app` adds them
in one fixed order (see there); none of them knows about routes or the engine.
"""
