from django.urls import path

from .sms import sms_receipt
from .wechat import wechat_event

urlpatterns = [
    path("sms/<str:provider>/<str:token>/", sms_receipt, name="sms_receipt"),
    path("wechat/<str:app>/", wechat_event, name="wechat_event"),
]
