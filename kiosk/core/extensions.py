"""Flask extensions, created once here and bound in create_app (no import-order hacks)."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# A request commits several times (a claim before slow work, then the step's result) and goes
# on using the rows it just wrote. Expiring them on commit made SQLAlchemy read the registration
# again after every commit (~25 SELECTs a registration, ~12 % of its statements); a request's
# session lives for that request only, and a rollback still expires everything, so the
# "someone else got there first" paths read fresh rows (docs/performance.md).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
htmx = Htmx()
