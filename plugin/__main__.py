"""The plugin's entry point: Pulumi runs this file to host the jwt-scoped components."""

from jwt_scoped.provider import host

if __name__ == "__main__":
    host()
