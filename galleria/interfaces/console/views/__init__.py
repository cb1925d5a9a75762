"""Console views, one module per area. `root` is imported by the site's URLconf."""

from .auth import LoginView, LogoutView, PasswordChangeView, admin_login, root

__all__ = ["LoginView", "LogoutView", "PasswordChangeView", "admin_login", "root"]
