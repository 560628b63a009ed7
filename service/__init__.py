"""The HTTP service: Flask app factory, JSON API under /v1, storage, tenants and keys, OpenAPI, metrics."""

from service.app import create_app

__all__ = ["create_app"]
