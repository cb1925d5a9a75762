from bench.baseline.urls import urlpatterns as baseline
from config.urls import urlpatterns as product

urlpatterns = [*baseline, *product]
