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
    }
}
