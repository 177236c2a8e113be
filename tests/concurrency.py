"""Helpers for tests that race real database transactions against each other."""

import threading

from sqlalchemy import select

from cplan.extensions import db
from cplan.models import Officer, Post
from cplan.services.principal import Principal


def run_together(app, workers, timeout=30):
    """Run each worker in its own thread, app context and session, released together by a
    barrier; commit what each returns. Returns each worker's result or the exception it raised."""
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(index, work):
        with app.app_context():
            try:
                barrier.wait()
                results[index] = work()
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def principal_in_thread(officer_id):
    """The officer acting through the first post they hold, loaded in the current thread's
    session."""
    officer = db.session.get(Officer, officer_id)
    post = db.session.scalars(
        select(Post).where(Post.assignments.any(officer_id=officer_id))
    ).first()
    return Principal(officer=officer, post=post, session=None)
