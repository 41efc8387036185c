namespace Diffuse.Process;

/// <summary>
/// One step of a discretised SDE, x_{i+1} = x_i + f_i(x_i) + G_i z with f_i(x) = <see cref="DriftScale"/> x and
/// G_i = <see cref="NoiseScale"/> (Song et al. 2021, arXiv:2011.13456, Eq. 45-46 and App. E): the DDPM and
/// SMLD chains for VP and VE, Euler-Maruyama otherwise.
/// </summary>
public readonly record struct SdeDiscretization(double DriftScale, double NoiseScale);
