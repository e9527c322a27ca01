# The operator image, for people with Docker. Without Docker, `make images`
# builds the same image as a tarball (hack/build-images.sh).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o /out/shoal-operator .

FROM scratch
COPY --from=build /out/shoal-operator /shoal-operator
USER 65532:65532
ENTRYPOINT ["/shoal-operator"]
