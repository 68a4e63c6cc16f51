-- Portfolio images remember when they were added (the frontend's image shape has created_at).
ALTER TABLE portfolio_imagenes ADD COLUMN fecha_creacion timestamptz NOT NULL DEFAULT now();
