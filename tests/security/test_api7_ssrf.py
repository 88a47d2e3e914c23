"""API7:2023 Server side request forgery — every URL-like input (merchant, offer, job, ticket,
message and attachment fields, a notification link, Host and absolute-form request targets)
is stored as text or refused, and never fetched: a listener on this machine receives nothing."""

from __future__ import annotations

import io
import socket
import threading
import time

from tests.security.world import TINY_PDF, World


class Listener:
    """Counts every TCP connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


def test_url_like_inputs_are_never_fetched(world: World) -> None:
    listener = Listener()
    url = f"http://127.0.0.1:{listener.port}/steal"
    urls = [url, f"http://localhost:{listener.port}/", f"//127.0.0.1:{listener.port}/x", f"gopher://127.0.0.1:{listener.port}/"]
    try:
        for u in urls:
            answers = [
                world.call("POST", "/api/v1/benefits/merchants", role="staff_in", json={
                    "name": u[:100], "category": "food", "address": u, "lat": 32.0, "lng": 118.8, "phone": None}),
                world.call("POST", "/api/v1/benefits/offers", role="staff_in",
                           json=world.offer_body(title=u[:60], description=u)),
                world.call("POST", "/api/v1/jobs", role="employer", json=world.job_body(description=f"详见 {u}")),
                world.call("POST", "/api/v1/legal/tickets", role="member",
                           json=world.ticket_body(description=f"证据在 {u}", employer_name=u[:100])),
                world.call("POST", f"/api/v1/legal/tickets/{world.ids['ticket']}/messages", role="member",
                           json={"body": u, "internal": False}),
                world.call("POST", f"/api/v1/legal/tickets/{world.ids['ticket']}/attachments", role="member",
                           files={"file": (u.replace("/", "_")[:100] + ".pdf", io.BytesIO(TINY_PDF),
                                           "application/pdf")}),
                world.call("POST", "/api/v1/orgs", role="admin", json={"name": u[:100], "parent_id": None}),
            ]
            for resp in answers:
                assert resp.status_code < 500, resp.text
        # A notification whose link points at the listener: stored and shown, never followed.
        note = world.notification(world.accounts["member"], link=url)
        assert note
        world.call("GET", "/api/v1/notifications", role="member")
        world.call("GET", "/api/v1/home", role="member")
        world.call("GET", "/api/v1/benefits/offers?q=steal&limit=100", role="member")
        # The gateway routes by path only: a Host header or an absolute-form target naming the
        # listener does not send the request there.
        world.gw.get("/api/v1/jobs", headers={**world.headers["member"], "host": f"127.0.0.1:{listener.port}"})
        with socket.create_connection(("127.0.0.1", world.stack.gateway_port), timeout=10) as sock:
            sock.sendall(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{listener.port}\r\nConnection: close\r\n\r\n".encode())
            while sock.recv(65536):
                pass
        time.sleep(1.5)  # outbox relays and background tasks run every second
        assert listener.hits == 0
    finally:
        listener.close()
