# The customer portal: built once with the sign-in settings, served as static files by nginx,
# which forwards /api to the API (the portal calls the API on its own origin).
FROM node:20-slim AS build
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
COPY frontend ./
ARG VITE_OIDC_ISSUER=""
ARG VITE_OIDC_AUDIENCE=""
ARG VITE_OIDC_CLIENT_ID=""
ENV VITE_API_URL=/api VITE_OIDC_ISSUER=$VITE_OIDC_ISSUER VITE_OIDC_AUDIENCE=$VITE_OIDC_AUDIENCE \
    VITE_OIDC_CLIENT_ID=$VITE_OIDC_CLIENT_ID
RUN npx vite build

FROM nginx:1.27-alpine
COPY infra/portal-nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /src/dist /usr/share/nginx/html
