"""Start the aidqa web UI: ``python app.py`` (host/port from AIDQA_HOST / AIDQA_PORT, default 127.0.0.1:7860)."""

from aidqa.ui import launch

if __name__ == "__main__":
    launch()
