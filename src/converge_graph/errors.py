"""The exception tree. Every error the service raises on purpose is one of these.

    ConvergeError                 base; ``status`` is the HTTP status the API maps it to
    ├── InvalidInput (422)        a field is wrong; ``field`` names it, the message says the fix
    │   └── InvalidAlias (422)    an alias string is not ``urn:<type>:<value>``
    ├── Unauthorized (401)        unknown or missing token or key
    ├── Forbidden (403)           a key of the wrong scope
    ├── NotFound (404)            unknown cluster, profile or event id
    ├── QueryFileError            a cypher/*.cypher file is missing or empty (start-up)
    └── DatabaseUnavailable (503) Neo4j cannot be reached; translated from driver
                                  errors in ``store.graph`` and nowhere else
"""

from __future__ import annotations


class ConvergeError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class InvalidInput(ConvergeError):
    status = 422
    code = "invalid"


class InvalidAlias(InvalidInput):
    code = "invalid_alias"


class Unauthorized(ConvergeError):
    status = 401
    code = "unauthorized"


class Forbidden(ConvergeError):
    status = 403
    code = "forbidden"


class NotFound(ConvergeError):
    status = 404
    code = "not_found"



class QueryFileError(ConvergeError):
    code = "query_file"


class DatabaseUnavailable(ConvergeError):
    status = 503
    code = "database_unavailable"
