"""Front-end libraries come from the server, not a CDN."""


def test_socketio_client_is_served_locally(client):
    response = client.get("/vendor/socket.io.esm.min.js")
    assert response.status_code == 200
    assert b"socket.io" in response.data.lower() or b"engine.io" in response.data.lower()


def test_only_listed_files_are_reachable(client):
    assert client.get("/vendor/package.json").status_code == 404
    assert client.get("/vendor/..%2Fpackage.json").status_code == 404
