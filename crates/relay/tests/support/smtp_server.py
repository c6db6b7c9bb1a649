"""A real SMTP server for the relay's tests: Debian's aiosmtpd, plain, with
STARTTLS, or with TLS from the first byte, optionally asking for a login;
each message is delivered into a maildir with a first line saying how it
arrived."""

import argparse
import mailbox
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--maildir", required=True)
parser.add_argument("--security", choices=["none", "starttls", "tls"], default="none")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--login", help="USER:PASSWORD the server asks for")
arguments = parser.parse_args()


class Deliver:
    def __init__(self):
        self.maildir = mailbox.Maildir(arguments.maildir, create=True)

    async def handle_DATA(self, server, session, envelope):
        # session.ssl is set by STARTTLS only; TLS from the first byte shows on the transport.
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        arrived = "X-Test-Arrived: tls={} authenticated={}\r\n".format(
            "yes" if tls else "no", "yes" if session.authenticated else "no"
        )
        self.maildir.add(arrived.encode() + envelope.original_content)
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, _, password = (arguments.login or "").partition(":")
    accepted = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=accepted, handled=False)


settings = {"hostname": "127.0.0.1", "port": arguments.port}
if arguments.security != "none":
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(arguments.cert, arguments.key)
    if arguments.security == "starttls":
        settings.update(tls_context=context, require_starttls=True)
    else:
        # Already protected from the first byte: no STARTTLS to require.
        settings.update(ssl_context=context, auth_require_tls=False)
if arguments.login:
    settings.update(authenticator=authenticator)
else:
    settings.update(auth_require_tls=False)

controller = Controller(Deliver(), **settings)
controller.start()
threading.Event().wait()
