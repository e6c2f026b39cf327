# The part of Flask-WTF 1.3 the portal uses (it ships no types): CSRF protection only.
from flask_wtf.csrf import CSRFProtect as CSRFProtect
