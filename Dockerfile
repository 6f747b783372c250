FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json ./
COPY src ./src
COPY mocks ./mocks
COPY bench ./bench
COPY test ./test
COPY bin ./bin
COPY schemas ./schemas
COPY docker ./docker
RUN npm ci --no-audit --no-fund
ENTRYPOINT ["node", "/app/bin/davis.js"]
CMD ["serve"]
