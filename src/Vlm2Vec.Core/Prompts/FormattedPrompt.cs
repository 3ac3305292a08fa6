namespace Vlm2Vec.Preprocessing;

/// <summary>
/// A formatted prompt: the string, how many of its placeholders carry images (in order), and how many are stray
/// placeholders of an image-less input that stay ordinary tokens.
/// </summary>
internal readonly record struct FormattedPrompt(string Text, int ImageCount, int StrayPlaceholderCount);
