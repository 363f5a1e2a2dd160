"""JupyterLab settings for the course, read when `jupyter lab` starts in this folder."""

c = get_config()  # noqa: F821 - provided by Jupyter's config loader
c.ServerApp.allow_root = True  # course machines and containers often run as root
c.ServerApp.open_browser = True
