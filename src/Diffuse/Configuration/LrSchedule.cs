namespace Diffuse.Configuration;

/// <summary>The learning rate after warmup: cosine decay to 10% of the peak, or constant.</summary>
public enum LrSchedule
{
    Cosine,
    Constant,
}
