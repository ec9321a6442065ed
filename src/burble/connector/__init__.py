"""Outbound HTTP: the one client factory every call to another service goes through."""

from __future__ import annotations

from burble.connector.client import ConnectorError, ConnectorTimeout, http_client, translate

__all__ = ["ConnectorError", "ConnectorTimeout", "http_client", "translate"]
