# The application image: API, worker and scheduler are the same image with another command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ARCHIVE_DATA_DIR=/var/lib/archive

# libmagic: media types are sniffed from the bytes (python-magic). OCRmyPDF with
# Tesseract (Thai + English) and Ghostscript: OCR of scans into PDF/A renditions.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1 \
       ocrmypdf tesseract-ocr tesseract-ocr-tha tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY archive ./archive
COPY api ./api
COPY workers ./workers
COPY cli ./cli
RUN pip install .

RUN useradd --system --uid 10001 --home /var/lib/archive archive \
    && mkdir -p /var/lib/archive \
    && chown archive /var/lib/archive
USER archive

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["archive", "serve", "--host", "0.0.0.0", "--port", "8000"]
