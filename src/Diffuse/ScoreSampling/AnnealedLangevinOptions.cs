namespace Diffuse.ScoreSampling;

/// <summary>
/// Settings of <see cref="AnnealedLangevin"/>: <see cref="Levels"/> geometric noise levels from the VE SDE's sigma_max
/// down to its sigma_min, <see cref="StepsPerLevel"/> Langevin steps at each, base step size <see cref="StepSize"/>
/// (Song &amp; Ermon 2019, arXiv:1907.05600, Algorithm 1: L = 10, T = 100, eps = 2e-5), and with <see cref="Denoise"/> a
/// final Tweedie step x + sigma_L^2 s(x, sigma_L) (Jolicoeur-Martineau et al. 2021, arXiv:2009.05475; Song &amp; Ermon 2020).
/// </summary>
public sealed record AnnealedLangevinOptions
{
    public int Levels { get; init; } = 10;
    public int StepsPerLevel { get; init; } = 100;
    public double StepSize { get; init; } = 2e-5;
    public bool Denoise { get; init; } = true;

    public void Validate()
    {
        if (Levels < 2) throw new DiffuseException($"annealed Langevin dynamics needs at least 2 noise levels, got {Levels}");
        if (StepsPerLevel < 1) throw new DiffuseException($"annealed Langevin dynamics needs at least one step per level, got {StepsPerLevel}");
        if (!(StepSize > 0)) throw new DiffuseException($"the Langevin step size must be positive, got {StepSize}");
    }
}
