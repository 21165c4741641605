"""Named Odoo failures. Each class is one thing an operator does differently.

`transient` tells the task retry policy whether a later attempt can succeed unaided.
Messages carry the connection, the model and method, and what to do; never the key.
"""

from __future__ import annotations

from poller.errors import PollerError


class OdooError(PollerError):
    """Base of every failure talking to an Odoo server."""

    what_to_do = "Check the Odoo server and the connection settings"

    def __init__(
        self,
        detail: str,
        *,
        connection: str | None = None,
        call: str | None = None,
        http_status: int | None = None,
        odoo_exception: str | None = None,
    ) -> None:
        self.detail = detail
        self.connection = connection
        self.call = call
        self.http_status = http_status
        self.odoo_exception = odoo_exception
        where = f"Odoo connection '{connection}'" if connection else "Odoo"
        if call:
            where += f", {call}"
        super().__init__(f"{where}: {detail}", hint=self.what_to_do)


class OdooAuthError(OdooError):
    what_to_do = (
        "The login or API key was refused (wrong, revoked or expired): "
        "create a new API key in Odoo and store it with `poller edit NAME --api-key`"
    )


class OdooAccessError(OdooError):
    what_to_do = "Give the Odoo user read access to sales, contacts and products"


class OdooMissingError(OdooError):
    what_to_do = (
        "A model, field or method does not exist on this Odoo: check that the Sales app "
        "is installed and the server version is supported"
    )


class OdooDatabaseNotFound(OdooMissingError):
    """The server has no database of the connection's name (JSON-2 answers Odoo's 404 page
    for a wrong `X-Odoo-Database`, JSON-RPC a PostgreSQL "database does not exist")."""

    what_to_do = (
        "This Odoo server has no database of that name: check the database with the Odoo "
        "administrator and store it with `poller edit NAME --database`"
    )


class OdooBadRequest(OdooError):
    what_to_do = "Odoo rejected the request as invalid: report this with the run's logs"


class OdooRateLimited(OdooError):
    transient = True
    what_to_do = "Odoo (or a proxy before it) is rate limiting: the poll retries later"

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **kwargs)  # type: ignore[arg-type]  # OdooError's keyword fields


class OdooServerError(OdooError):
    what_to_do = "Odoo failed internally: check its server log; the poll retries later"

    def __init__(self, detail: str, *, transient: bool = False, **kwargs: object) -> None:
        self.transient = transient
        super().__init__(detail, **kwargs)  # type: ignore[arg-type]  # OdooError's keyword fields


class OdooTransportError(OdooError):
    transient = True
    what_to_do = "Odoo could not be reached (timeout, refused, TLS): the poll retries later"


class OdooProtocolError(OdooError):
    transient = True
    what_to_do = (
        "Odoo answered something that is not a JSON-RPC reply (a proxy error page, "
        "a truncated body): check the URL points at Odoo itself"
    )
