namespace Vlm2Vec.Preprocessing;

/// <summary>The first frame of an animated WebP: its offset and size on the canvas.</summary>
internal readonly record struct WebpFramePlacement(int X, int Y, int Width, int Height);
