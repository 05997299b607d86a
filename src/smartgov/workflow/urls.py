app_name = "$app"
urlpatterns = []
