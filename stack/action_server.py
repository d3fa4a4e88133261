"""The action server: rasa-sdk's app on loopback only, without CORS, and with errors that echo nothing back.

``rasa run actions`` listens on every interface (``SANIC_HOST`` defaults to 0.0.0.0)
and its error handler answers with the request body, which is the patient's tracker
(ePHI). Only the Rasa server on the same host calls the action server, so this runs
rasa-sdk's own app bound to 127.0.0.1 and replaces that handler with one that
answers and logs no request content.
"""

import argparse
import logging
import traceback

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, json

logger = logging.getLogger(__name__)

ACTIONS_PACKAGE = "actions"
LOOPBACK = "127.0.0.1"


async def answer_without_content(request: Request, exception: Exception) -> HTTPResponse:
    """An HTTP error (404, 405, ...) keeps its status; anything else is a 500 naming only the error's type.

    The log gets the traceback's frames and the type, not the exception's message, which may quote the tracker.
    """
    if isinstance(exception, SanicException):
        return json({"error": type(exception).__name__}, status=exception.status_code)
    frames = "".join(traceback.format_tb(exception.__traceback__))
    logger.error("actions.failed path=%s error=%s\n%s", request.path, type(exception).__name__, frames)
    return json({"error": "the action failed; see the action server's log"}, status=500)


def action_app(package: str = ACTIONS_PACKAGE) -> Sanic:
    """rasa-sdk's app for ``package`` with no CORS origins and the content-free error handler."""
    app = create_app(package, cors_origins=[])
    app.exception(Exception)(answer_without_content)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the action server on loopback.")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default=ACTIONS_PACKAGE, help="package of the custom actions")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    utils.update_sanic_log_level()
    action_app(args.actions).run(LOOPBACK, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
