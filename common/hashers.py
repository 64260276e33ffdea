from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idOwaspHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (m=19 MiB, t=2, p=1).

    Django's defaults (m=100 MiB, p=8) cost several times more per sign-in on a 2-core
    host without being a better fit for it; OWASP lists these parameters as equivalent
    protection. A distinct algorithm name lets Django re-hash old passwords on sign-in.
    """

    algorithm = "argon2id-owasp"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
