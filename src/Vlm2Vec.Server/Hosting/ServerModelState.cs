namespace Vlm2Vec.Server.Hosting;

/// <summary>Where the served model is in its life.</summary>
internal enum ServerModelState
{
    Loading,
    Ready,
    Failed,
    Stopping,
}
