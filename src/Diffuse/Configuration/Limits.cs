namespace Diffuse.Configuration;

/// <summary>
/// The largest sizes a config may hold. They stop a damaged or hostile config.json from building a schedule or a network
/// of gigabytes before anything else is checked; the memory a network of allowed sizes needs is checked against the
/// machine's (<c>Models.NetworkMemory</c>) before it is built.
/// </summary>
public static class Limits
{
    /// <summary>Training timesteps of a discrete schedule and discretisation steps of an SDE (the command line's bound too).</summary>
    public const int TrainTimesteps = 100_000;

    /// <summary>Channels of a network's widest layer (U-Net base_channels x channel_mult, an MLP's hidden_dim, a text encoder's width).</summary>
    public const int Width = 65_536;

    /// <summary>Repeated blocks or layers of a network (an MLP's blocks, a U-Net's num_res_blocks, a text encoder's layers).</summary>
    public const int Depth = 1_000;

    /// <summary>Height and width of an image, in pixels.</summary>
    public const int ImageSide = 4_096;

    /// <summary>Classes, vocabulary words, class names.</summary>
    public const int Entries = 1_000_000;

    /// <summary>Throws a one-line error naming <paramref name="key"/> when <paramref name="value"/> is above <paramref name="max"/>.</summary>
    public static void AtMost(long value, long max, string key)
    {
        if (value > max) throw new DiffuseException($"{key} must be at most {max}, got {value}");
    }
}
