FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY controller ./controller
COPY schemas ./schemas
COPY desired ./desired
RUN pip install --no-cache-dir . && useradd --system --uid 10001 presencectl
USER presencectl
EXPOSE 9464
ENTRYPOINT ["presencectl"]
CMD ["run", "/app/desired"]
