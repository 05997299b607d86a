from django.urls import path

from . import views

app_name = "hall"
urlpatterns = [
    path("", views.index, name="index"),
    path("book/", views.book, name="book"),
    path("appointments/<str:number>/", views.appointment, name="appointment"),
    path("t/<str:token>/", views.ticket_page, name="ticket"),
    path("t/<str:token>/rate/", views.rate, name="rate"),
    path("t/<str:token>/receipt.pdf", views.receipt, name="receipt"),
    path("live/t/<str:token>/", views.live_ticket, name="live_ticket"),
    path("live/<str:code>/", views.live_display, name="live_display"),
    path("<str:code>/display/", views.display, name="display"),
    path("<str:code>/kiosk/", views.kiosk, name="kiosk"),
    path("<str:code>/bookings/", views.bookings, name="bookings"),
    path("<str:code>/stats/", views.statistics, name="stats"),
    path("<str:code>/windows/<int:number>/", views.window_console, name="window"),
]
