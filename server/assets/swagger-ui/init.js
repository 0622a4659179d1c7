// Swagger UI for the server's own spec; no external requests.
window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null });
