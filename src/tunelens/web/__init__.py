"""The web app and REST API: ``create_app()`` in :mod:`tunelens.web.app`, ``tunelens serve`` in
:mod:`tunelens.web.server`.

``routes/`` holds one module per area of the API (each a thin handler that validates, calls the
pipeline and shapes the answer), ``schemas/`` the request and response bodies, ``middleware/``
the outer shell (request ids, logs, metrics, security headers, limits), ``services/`` what the
routes stand on (state, the data loop, predictions, stats, rendering), and ``deps`` the FastAPI
dependencies that hand them to the routes.
"""
