from django.urls import path

from .sms import sms_receipt

urlpatterns = [
    path("sms/<str:provider>/<str:token>/", sms_receipt, name="sms_receipt"),
]
