from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    name = "galleria.interfaces"
    label = "interfaces"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .console.session_security import stamp_on_login

        # every sign-in (ours, the test client's, any future one) starts the staff session clocks
        user_logged_in.connect(stamp_on_login, dispatch_uid="galleria.staff_session_stamp")
