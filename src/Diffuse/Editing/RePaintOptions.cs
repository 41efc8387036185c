namespace Diffuse.Editing;

/// <summary>
/// Settings of <see cref="RePaint"/> (Lugmayr et al. 2022, arXiv:2201.09865): <see cref="Steps"/> reverse steps on a
/// respaced grid of the training timesteps; after every <see cref="JumpLength"/> steps down the chain jumps back up as
/// many steps, <see cref="Resample"/> - 1 times, so that the generated region harmonises with the known one (the
/// paper's T = 250, j = 10, r = 10; r = 1 is plain known-region replacement).
/// </summary>
public sealed record RePaintOptions
{
    public int Steps { get; init; } = 250;
    public int JumpLength { get; init; } = 10;
    public int Resample { get; init; } = 10;

    public void Validate(int trainTimesteps)
    {
        if (Steps < 1 || Steps > trainTimesteps)
            throw DiffuseException.For("steps", $"steps must lie in [1, {trainTimesteps}] (the model's training timesteps), got {Steps}");
        if (JumpLength < 1) throw DiffuseException.For("jump_length", $"jump_length must be at least 1, got {JumpLength}");
        if (Resample < 1) throw DiffuseException.For("resample", $"resample must be at least 1, got {Resample}");
        if (ScheduleLength(Steps, JumpLength, Resample) is var length && length > MaxScheduleLength)
            throw DiffuseException.For("resample",
                $"resample {Resample} with steps {Steps} and jump_length {JumpLength} makes {length:N0} reverse and forward steps, more than {MaxScheduleLength:N0} (days of work); lower them (the default makes {ScheduleLength(250, 10, 10):N0})");
    }

    /// <summary>The most steps (down and back up) a run's schedule may hold: far beyond any useful run, so a typo is an error, not days of work and gigabytes of schedule.</summary>
    public const long MaxScheduleLength = 1_000_000;

    /// <summary>The length of <see cref="RePaint.Schedule"/> for these settings, counted without building it.</summary>
    public static long ScheduleLength(int steps, int jumpLength, int resample)
    {
        long jumps = steps > jumpLength ? (steps - jumpLength + jumpLength - 1) / jumpLength : 0;
        return steps + 1 + 2L * jumps * (resample - 1) * jumpLength;
    }
}
