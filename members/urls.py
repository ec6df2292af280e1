from django.urls import path

from . import views, views_qualifications

app_name = "members"

urlpatterns = [
    path("", views.MemberListView.as_view(), name="list"),
    path("new/", views.member_create, name="create"),
    path("redemptions/", views.RedemptionListView.as_view(), name="redemptions"),
    path("redemptions/<int:subscription_id>/redeem/", views.redemption_record, name="redeem"),
    path("online-payment/done/", views.online_payment_done, name="stripe_success"),
    path("online-payment/cancelled/", views.online_payment_cancelled, name="stripe_cancel"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/shares/new/", views.member_subscribe, name="subscribe"),
    path("<int:pk>/payments/new/", views.payment_create, name="payment"),
    path("<int:pk>/pay-online/", views.pay_online, name="pay_online"),
    path("<int:pk>/payments/<int:payment_id>/refund/", views.stripe_refund, name="stripe_refund"),
    path("<int:pk>/associates/new/", views.associate_create, name="associate_add"),
    path("<int:pk>/associates/<int:associate_id>/remove/", views.associate_remove, name="associate_remove"),
    path("<int:pk>/leave/", views.member_leave, name="leave"),
    path("<int:pk>/anonymise/", views.member_anonymise, name="anonymise"),
    path("<int:pk>/invite/", views.member_invite, name="invite"),
    path("<int:pk>/certificate.pdf", views.member_certificate, name="certificate"),
    path("<int:pk>/card.pdf", views.member_card, name="card"),
    path("qualifications/", views_qualifications.QualificationListView.as_view(), name="qualifications"),
    path("qualifications/new/", views_qualifications.qualification_create, name="qualification_add"),
    path("qualifications/<slug:code>/edit/", views_qualifications.qualification_edit, name="qualification_edit"),
    path("<int:pk>/qualifications/grant/", views_qualifications.member_qualification_grant, name="qualification_grant"),
    path("<int:pk>/qualifications/<slug:code>/revoke/", views_qualifications.member_qualification_revoke, name="qualification_revoke"),
]

me_urlpatterns = [
    path("certificate.pdf", views.me_certificate, name="certificate"),
    path("card.pdf", views.me_card, name="card"),
    path("data.json", views.me_data, name="data"),
    path("email/confirm/<str:token>/", views.me_email_confirm, name="email_confirm"),
]
