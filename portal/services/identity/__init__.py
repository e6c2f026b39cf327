"""Who the person is: OpenID Connect sign-in, the portal's record of people who signed in, who may
administer the portal, and where a sign-in may send them next."""
