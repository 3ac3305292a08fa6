using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Server.Batching;
using Vlm2Vec.Server.Protocol;

namespace Vlm2Vec.Server.Hosting;

/// <summary>The request handlers: <c>POST /v1/embeddings</c>, <c>GET /v1/models</c>, <c>GET /health</c> and the JSON 404.</summary>
internal sealed class ServerEndpoints
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 16 };

    private readonly Vlm2VecServerOptions _options;
    private readonly ServerModel _model;
    private readonly ServerMetrics _metrics;
    private readonly ApiKeyCheck _keys;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;

    public ServerEndpoints(
        Vlm2VecServerOptions options, ServerModel model, ServerMetrics metrics, ApiKeyCheck keys, IHostApplicationLifetime lifetime, ILoggerFactory loggerFactory)
    {
        _options = options;
        _model = model;
        _metrics = metrics;
        _keys = keys;
        _lifetime = lifetime;
        _logger = loggerFactory.CreateLogger("Vlm2Vec.Server");
    }

    public async Task EmbeddingsAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var status = StatusCodes.Status200OK;
        string? errorCode = null;
        try
        {
            await EmbedAsync(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ToApiError(ex, context) is { } error)
        {
            status = error.StatusCode;
            errorCode = error.Code ?? error.Type;
            await ApiErrorWriter.WriteAsync(context, error, _options.RetryAfterSeconds).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody reads an answer. 499 as nginx counts it.
            status = 499;
            errorCode = "client_closed_request";
        }
        finally
        {
            _metrics.RequestFinished(status, errorCode, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    public Task ModelsAsync(HttpContext context) => GuardAsync(context, authorize: true, () =>
    {
        var name = _model.Name ?? throw Unavailable("The model is still loading; retry shortly.", "model_not_ready");
        return WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            WriteModel(writer, name);
            foreach (var alias in _options.ModelAliases)
            {
                WriteModel(writer, alias);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    });

    public Task ModelAsync(HttpContext context, string id) => GuardAsync(context, authorize: true, () =>
    {
        if (_model.Name is null)
        {
            throw Unavailable("The model is still loading; retry shortly.", "model_not_ready");
        }

        if (!_model.Accepts(id))
        {
            throw UnknownModel(id);
        }

        return WriteJsonAsync(context, StatusCodes.Status200OK, writer => WriteModel(writer, id));
    });

    public Task HealthAsync(HttpContext context)
    {
        var state = _lifetime.ApplicationStopping.IsCancellationRequested ? ServerModelState.Stopping : _model.State;
        if (state != ServerModelState.Ready && state != ServerModelState.Failed)
        {
            context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        return WriteJsonAsync(context, state == ServerModelState.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("status", state.ToString().ToLowerInvariant());
            if (_model.Name is { } name)
            {
                writer.WriteString("model", name);
            }

            if (state == ServerModelState.Ready)
            {
                writer.WriteNumber("dimension", _model.Encoder.Info.Dimension);
                writer.WriteString("engine", _model.Encoder.Info.Engine);
                writer.WriteNumber("in_flight", _model.Batcher.InFlight);
                writer.WriteNumber("queue_depth", _metrics.QueueDepth);
            }

            if (state == ServerModelState.Failed && _model.LoadError is { } error)
            {
                writer.WriteString("error", error.Message);
            }

            writer.WriteEndObject();
        });
    }

    public Task NotFoundAsync(HttpContext context) => GuardAsync(context, authorize: false, () =>
        throw new ApiException(
            StatusCodes.Status404NotFound,
            ApiErrorTypes.InvalidRequest,
            "unknown_url",
            $"Unknown request URL: {context.Request.Method} {context.Request.Path}. This server answers POST /v1/embeddings, GET /v1/models and GET /health."));

    private async Task EmbedAsync(HttpContext context)
    {
        Authorize(context);
        if (_lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw Unavailable("The server is shutting down.", "shutting_down");
        }

        switch (_model.State)
        {
            case ServerModelState.Loading:
                throw Unavailable("The model is still loading; retry shortly.", "model_not_ready");
            case ServerModelState.Failed:
                throw new ApiException(
                    StatusCodes.Status503ServiceUnavailable, ApiErrorTypes.Server, "model_load_failed", $"The model failed to load: {_model.LoadError?.Message}");
            case ServerModelState.Stopping:
                throw Unavailable("The server is shutting down.", "shutting_down");
        }

        var limits = _options.Limits;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = limits.MaxRequestBodyBytes;
        }

        if (context.Request.ContentLength > limits.MaxRequestBodyBytes)
        {
            throw BodyTooLarge(context.Request.ContentLength.Value);
        }

        EmbeddingRequest request;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, JsonOptions, context.RequestAborted).ConfigureAwait(false);
            request = EmbeddingRequestParser.Parse(document.RootElement, limits);
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest($"The request body is not valid JSON: {ex.Message}", inner: ex);
        }

        if (!_model.Accepts(request.Model))
        {
            throw UnknownModel(request.Model);
        }

        var dimension = _model.Encoder.Info.Dimension;
        if (request.Dimensions is { } asked && asked != dimension)
        {
            throw ApiException.BadRequest(
                $"'dimensions' is {asked}, but this model only produces {dimension}-dimensional embeddings: it was not trained for shortened (Matryoshka) vectors. Leave 'dimensions' out or send {dimension}.",
                "dimensions",
                "unsupported_dimensions");
        }

        var inputs = new MultimodalInput[request.Items.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = request.Items[i].ToInput(i, request.InstructionFor(i), request.Role, _options.DefaultInstruction, _options.DefaultRole);
            EmbeddingRequestParser.CheckTextLength(inputs[i].Text, ItemParam(i), limits, inputs[i].Instruction);
        }

        _metrics.RequestItems(inputs.Length);
        var outcome = await _model.Batcher.EmbedAsync(inputs, context.RequestAborted).ConfigureAwait(false);
        await EmbeddingResponseWriter.WriteAsync(context.Response, request.Model, outcome.Vectors, request.Format, outcome.PromptTokens, context.RequestAborted)
            .ConfigureAwait(false);
    }

    /// <summary>The OpenAI error for an exception of request handling; null for a cancelled request (no answer).</summary>
    private ApiException? ToApiError(Exception exception, HttpContext context)
    {
        switch (exception)
        {
            case ApiException api:
                return api;
            case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                return BodyTooLarge(null);
            case BadHttpRequestException bad:
                return new ApiException(bad.StatusCode, ApiErrorTypes.InvalidRequest, null, bad.Message);
            case BatcherUnavailableException { QueueFull: true } full:
                return new ApiException(StatusCodes.Status429TooManyRequests, ApiErrorTypes.RateLimit, "queue_full", full.Message);
            case BatcherUnavailableException stopping:
                return Unavailable(stopping.Message, "shutting_down");
            case BatchItemException item:
                return ItemError(item);
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return null;
            case OperationCanceledException:
                return Unavailable("The server stopped before the request was finished.", "shutting_down");
            default:
                ServerLog.Unexpected(_logger, context.Request.Path, exception);
                return new ApiException(StatusCodes.Status500InternalServerError, ApiErrorTypes.Server, null, $"Internal error: {exception.Message}");
        }
    }

    private static ApiException ItemError(BatchItemException item)
    {
        var param = ItemParam(item.ItemIndex);
        var cause = item.InnerException ?? item;
        var message = $"{param}: {cause.Message}";
        return cause switch
        {
            ImageDecodeException { Kind: ImageErrorKind.TooManyBytes or ImageErrorKind.TooManyPixels } =>
                ApiException.TooLarge(message, "image_too_large", param, item),
            ImageDecodeException => ApiException.BadRequest(message, param, "invalid_image", item),
            InputTooLongException => ApiException.BadRequest(message, param, "context_length_exceeded", item),
            InvalidInputException => ApiException.BadRequest(message, param, "invalid_input", item),
            _ => new ApiException(StatusCodes.Status500InternalServerError, ApiErrorTypes.Server, null, $"{param} could not be embedded: {cause.Message}", param, item),
        };
    }

    private static string ItemParam(int index) => string.Create(CultureInfo.InvariantCulture, $"input[{index}]");

    private ApiException BodyTooLarge(long? length) => ApiException.TooLarge(
        length is { } n
            ? $"The request body is {n:N0} bytes; the limit is {_options.Limits.MaxRequestBodyBytes:N0} bytes. Send fewer or smaller inputs per request."
            : $"The request body is over the limit of {_options.Limits.MaxRequestBodyBytes:N0} bytes. Send fewer or smaller inputs per request.",
        "request_too_large");

    private ApiException UnknownModel(string model) => new(
        StatusCodes.Status404NotFound,
        ApiErrorTypes.InvalidRequest,
        "model_not_found",
        $"The model '{model}' does not exist on this server; it serves '{_model.Name}'" +
        (_options.ModelAliases.Count > 0 ? $" (also as {string.Join(", ", _options.ModelAliases.Select(a => $"'{a}'"))})." : "."),
        "model");

    private static ApiException Unavailable(string message, string code) =>
        new(StatusCodes.Status503ServiceUnavailable, ApiErrorTypes.Server, code, message);

    private void Authorize(HttpContext context)
    {
        if (!_keys.IsAuthorized(context.Request))
        {
            throw new ApiException(
                StatusCodes.Status401Unauthorized,
                ApiErrorTypes.Authentication,
                "invalid_api_key",
                "Missing or incorrect API key. Send it as 'Authorization: Bearer <key>'.");
        }
    }

    private async Task GuardAsync(HttpContext context, bool authorize, Func<Task> handler)
    {
        try
        {
            if (authorize)
            {
                Authorize(context);
            }

            await handler().ConfigureAwait(false);
        }
        catch (Exception ex) when (ToApiError(ex, context) is { } error)
        {
            await ApiErrorWriter.WriteAsync(context, error, _options.RetryAfterSeconds).ConfigureAwait(false);
        }
    }

    private void WriteModel(Utf8JsonWriter writer, string id)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", _model.Created);
        writer.WriteString("owned_by", "vlm2vec");
        if (_model.State == ServerModelState.Ready)
        {
            // Extension fields: what a client needs to configure itself (dimension, token limit).
            writer.WriteNumber("dimension", _model.Encoder.Info.Dimension);
            writer.WriteNumber("max_input_tokens", _model.Preprocessor!.MaxTokens);
            writer.WriteString("engine", _model.Encoder.Info.Engine);
        }

        writer.WriteEndObject();
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        write(writer);
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
