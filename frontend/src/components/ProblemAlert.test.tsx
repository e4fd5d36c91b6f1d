import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { createApiClient } from '../api/client';
import { ApiProblem, isProblem, unwrap } from '../api/problem';
import { stubApi } from '../test/render';
import { ProblemAlert } from './ProblemAlert';

describe('ProblemAlert', () => {
  it('shows the problem title, its detail and the next step', () => {
    const problem = new ApiProblem(402, {
      type: '/problems/payment-required',
      title: 'A paid plan is required',
      detail: 'backtest exports need a paid plan',
    });
    render(<ProblemAlert error={problem} action="Export" />);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Export: A paid plan is required');
    expect(alert).toHaveTextContent('backtest exports need a paid plan');
    expect(alert).toHaveTextContent('Choose a paid plan on the Account page.');
  });

  it('maps validation errors to the fields they name', () => {
    const problem = new ApiProblem(422, {
      type: '/problems/validation',
      errors: [{ loc: ['body', 'grid', 'lines'], msg: 'Input should be less than or equal to 500' }],
    });
    expect(problem.fieldErrors()).toEqual({ lines: 'Input should be less than or equal to 500' });
  });

  it('lists the invalid fields a form does not show beside its inputs, with the next step', () => {
    const problem = new ApiProblem(422, {
      type: '/problems/validation',
      title: 'Invalid request',
      detail: 'body.grid.lines: Input should be less than or equal to 500',
      errors: [
        { loc: ['body', 'grid', 'lines'], msg: 'Input should be less than or equal to 500' },
        { loc: ['body', 'take_profit_pct'], msg: 'Input should be greater than 0' },
      ],
    });
    render(<ProblemAlert error={problem} action="Not saved" fieldsShown={['lines']} />);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Not saved: Invalid request');
    expect(alert).toHaveTextContent('take profit pct: Input should be greater than 0');
    expect(alert).not.toHaveTextContent('less than or equal to 500'); // beside its input instead
    expect(alert).toHaveTextContent('Correct the fields named and send again.');
  });

  it("reads the API answer's problem+json body as the typed problem a form uses", async () => {
    stubApi(() => ({
      status: 422,
      body: {
        type: '/problems/validation',
        title: 'Invalid request',
        status: 422,
        detail: 'body.grid.lower: Input should be greater than 0',
        errors: [{ loc: ['body', 'grid', 'lower'], msg: 'Input should be greater than 0' }],
      },
    }));
    const api = createApiClient('http://api.test', () => 'test-token');
    const answer = await api.POST('/bots', { body: { name: 'x', pair: 'BTC/USDT', grid: { lower: -1, upper: 2, lines: 3, investment: 100 } } });
    expect(answer.error?.type).toBe('/problems/validation'); // typed by the OpenAPI's ProblemDetail
    let thrown: unknown;
    try {
      unwrap(answer);
    } catch (error) {
      thrown = error;
    }
    expect(isProblem(thrown, 422)).toBe(true);
    expect((thrown as ApiProblem).fieldErrors()).toEqual({ lower: 'Input should be greater than 0' });
  });

  it('renders nothing without an error', () => {
    const { container } = render(<ProblemAlert error={null} />);
    expect(container).toBeEmptyDOMElement();
  });
});
