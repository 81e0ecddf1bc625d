"""The web layer: HTTP errors, the security guard in front of the app, and (later) the service, API and UI."""
