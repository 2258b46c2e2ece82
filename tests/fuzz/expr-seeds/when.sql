new.status = 'shipped' AND old.status IS DISTINCT FROM new.status
