namespace Vlm2Vec.Cli.Search;

/// <summary>One input of <c>vlm2vec embed</c>: the input and the jsonl line it came from (0 for the command line).</summary>
internal sealed record EmbedRequest(int Line, MultimodalInput Input);
