"""Request and response bodies of the web API, one module per area.

The OpenAPI document is generated from these classes, so a class's name and docstring are
part of the published schema: rename or re-document one only on purpose.
"""
