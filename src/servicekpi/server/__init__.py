"""HTTP API and dashboard server (docs/server.md): create_app in app.py, routes in routes/."""
