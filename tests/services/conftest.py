"""Tests of portal.services: steps called as plain functions of the app's Collaborators.

A step needs an app only to build its Collaborators (`make_app`); the subfolders add the real
servers their flows write to.
"""
