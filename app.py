"""Start the aidqa web app: ``python app.py`` (host/port from AIDQA_HOST / AIDQA_PORT, default 127.0.0.1:7860).
Chat UI at ``/``, JSON API under ``/api`` (docs at ``/api/docs``), on one port."""

from aidqa.web.app import serve

if __name__ == "__main__":
    serve()
