"""The one place where httpx exceptions become :class:`TransportFailure`."""

from __future__ import annotations

from typing import Any

import httpx

from sfbridge.salesforce.errors import TransportFailure

#: Failures that happen before any byte of the request left us: retrying cannot duplicate.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    path: str,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, translating httpx's exceptions.

    Args:
        http: the pooled client.
        method: HTTP method.
        url: absolute URL.
        path: the redacted path used in error messages.
        **kwargs: passed to ``httpx.AsyncClient.request``.

    Returns:
        The response, whatever its status.

    Raises:
        TransportFailure: timeout, refused or dropped connection; ``sent`` is ``False`` when
            the request certainly never left.
    """
    try:
        return await http.request(method, url, **kwargs)
    except _NOT_SENT as exc:
        raise TransportFailure(
            f"could not reach Salesforce: {type(exc).__name__}",
            sent=False,
            method=method,
            path=path,
        ) from exc
    except httpx.TimeoutException as exc:
        raise TransportFailure(
            f"Salesforce did not answer in time: {type(exc).__name__}", method=method, path=path
        ) from exc
    except httpx.TransportError as exc:
        raise TransportFailure(
            f"connection to Salesforce failed: {type(exc).__name__}", method=method, path=path
        ) from exc
