"""Console views, one module per area. `root` is imported by the site's URLconf."""

from .auth import LoginView, LogoutView, PasswordChangeView, root

__all__ = ["LoginView", "LogoutView", "PasswordChangeView", "root"]
