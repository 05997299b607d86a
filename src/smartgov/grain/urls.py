app_name = "grain"
urlpatterns = []
